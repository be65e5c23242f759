"""SLA clocks."""

"""Pages of people management, one module per part."""

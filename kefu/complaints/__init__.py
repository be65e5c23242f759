"""Complaints and reviews."""

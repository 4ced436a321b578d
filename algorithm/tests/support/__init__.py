"""Test doubles and process helpers shared by several test modules."""

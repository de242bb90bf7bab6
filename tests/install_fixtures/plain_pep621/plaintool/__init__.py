"""plaintool."""

"""The local contact index, matching a number to a contact, duplicates."""

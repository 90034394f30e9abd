"""Readers of archived conversations (the Customer Support on Twitter data set)."""

"""Outputs of an analysis: the report document (JSON) and the terminal summary."""

"""Stores: state that outlives a process (the state database and what lives in it)."""

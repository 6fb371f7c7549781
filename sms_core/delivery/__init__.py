"""Delivery: the worker (dispatch, status checks, recovery) and the HTTP surface."""

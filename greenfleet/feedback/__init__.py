"""Feedback on inference ids (rewards or ground-truth labels) and A/B tests decided on it."""

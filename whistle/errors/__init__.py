"""Errors as types: problems (RFC 9457) raised by any code. They are translated once, at the edge,
by whistle.errors.views (delivery), which the app includes."""
from whistle.errors.problems import Problem, problem_response, validation_problem

__all__ = ["Problem", "problem_response", "validation_problem"]

"""Error handling: typed errors and the views that translate them at the edge."""
from whistle.errors.problems import Problem, problem_response, validation_problem

__all__ = ["Problem", "problem_response", "validation_problem", "includeme"]


def includeme(config) -> None:
    config.scan("whistle.errors.views")

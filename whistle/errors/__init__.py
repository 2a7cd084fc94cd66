"""Error handling: typed errors and the views that translate them at the edge."""
from whistle.errors.problems import Problem, problem_response, validation_problem

__all__ = ["Problem", "problem_response", "validation_problem", "includeme"]


def includeme(config) -> None:
    config.scan("whistle.errors.views")
    config.add_tween("whistle.errors.tweens.undecodable_address_tween_factory",
                     under="whistle.security.headers.security_headers_tween_factory", over="pyramid_tm.tm_tween_factory")

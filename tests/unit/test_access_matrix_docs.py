"""The README's access matrix is the policy tables, rendered (``make access-matrix``)."""

from __future__ import annotations

from services.access_matrix import README, readme_with_matrix


def test_the_readme_shows_the_policy_tables_as_they_are() -> None:
    readme = README.read_text()
    assert readme_with_matrix(readme) == readme, "run `make access-matrix`"

from tests.people.conftest import agent, colleague, supervisor  # noqa: F401 (shared fixtures)

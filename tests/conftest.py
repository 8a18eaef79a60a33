import os

from hypothesis import HealthCheck, settings

# `make test` runs the "ci" profile; `HYPOTHESIS_PROFILE=thorough` explores far more.
settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

import os

os.environ.setdefault("MPLBACKEND", "Agg")

# Property tests explore new random cases on every local run; CI replays a fixed sequence, so a run there
# depends only on the code (a case found locally becomes a plain regression test).
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

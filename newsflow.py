"""`python -m newsflow`: the newsflow command, for when the venv's bin/ is not on PATH."""

from flows.cli import app

if __name__ == "__main__":
    app(prog_name="newsflow")  # not "newsflow.py" in usage lines

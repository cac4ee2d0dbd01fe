"""`python -m newsflow`: the newsflow command, for when the venv's bin/ is not on PATH."""

from flows.cli import main

if __name__ == "__main__":
    main()

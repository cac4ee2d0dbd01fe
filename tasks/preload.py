"""What the worker pool's fork server imports, once: the preparing code with its models loaded
(langdetect's profiles, py3langid's model, trafilatura's first-use data), so that every worker
forks with them instead of loading them (2-4 s) inside the time limit of its first document.
Only the fork server imports this module: the flow's own process never prepares a document
when it has workers, and so never pays for the models."""

from tasks.prepare import warm_up

warm_up()

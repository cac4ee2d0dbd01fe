-- Which process runs a run: a run left 'running' by a process that is gone (killed, machine
-- lost power) is marked failed by the next run on the same host instead of staying 'running'.

ALTER TABLE runs ADD COLUMN pid INTEGER;
ALTER TABLE runs ADD COLUMN host VARCHAR;

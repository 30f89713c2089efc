-- PostgreSQL's 0009 counts the events each process announced to the
-- others. An embedded database has one process, whose events never leave
-- it, so there is nothing to count here.
SELECT 1;

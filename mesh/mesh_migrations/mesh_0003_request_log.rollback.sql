DROP INDEX inbox_processed_at;
DROP TABLE request_log;

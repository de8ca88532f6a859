DROP INDEX requests_create_time;

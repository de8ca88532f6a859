DROP TABLE processed_requests;

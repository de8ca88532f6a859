DROP TABLE mark_read_requests;
DROP TABLE notifications;
DROP TABLE people;
DROP TABLE follows;

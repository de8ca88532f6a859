DROP TABLE emails;
DROP TABLE recipients;

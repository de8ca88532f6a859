DROP TABLE follows;
DROP TABLE comments;
DROP TABLE likes;
DROP TABLE users;
DROP TABLE videos;
DROP FUNCTION tags_text(text[]);

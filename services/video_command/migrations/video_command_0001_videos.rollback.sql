DROP TABLE requests;
DROP TABLE comments;
DROP TABLE likes;
DROP TABLE videos;

// Package server is the thin gRPC servicer of recommendations: request in, handler call,
// response out. Validation, errors, logs and deadlines are gomesh's interceptors.
package server

import (
	"context"

	recommendationsv1 "vidmesh/gen/go/vidmesh/recommendations/v1"
	"vidmesh/gomesh/paging"
	"vidmesh/services/recommendations/domain"
	"vidmesh/services/recommendations/handlers"
)

// Server implements vidmesh.recommendations.v1.RecommendationService.
type Server struct {
	recommendationsv1.UnimplementedRecommendationServiceServer
	queries handlers.Queries
}

// New serves the lists that queries reads.
func New(queries handlers.Queries) *Server { return &Server{queries: queries} }

// ListRelatedVideos answers "viewers who liked this also liked".
func (s *Server) ListRelatedVideos(ctx context.Context, req *recommendationsv1.ListRelatedVideosRequest) (
	*recommendationsv1.ListRelatedVideosResponse, error) {
	query := "related:" + req.GetVideoId()
	page, err := pageQuery(req.GetPageSize(), req.GetPageToken(), query)
	if err != nil {
		return nil, err
	}
	found, err := handlers.ListRelatedVideos(ctx, s.queries, req.GetVideoId(), page)
	if err != nil {
		return nil, err
	}
	return &recommendationsv1.ListRelatedVideosResponse{Videos: toProto(found.Videos),
		NextPageToken: nextToken(found, page, query)}, nil
}

// ListForUser answers "for you".
func (s *Server) ListForUser(ctx context.Context, req *recommendationsv1.ListForUserRequest) (
	*recommendationsv1.ListForUserResponse, error) {
	query := "for-user:" + req.GetUserId()
	page, err := pageQuery(req.GetPageSize(), req.GetPageToken(), query)
	if err != nil {
		return nil, err
	}
	found, err := handlers.ListForUser(ctx, s.queries, req.GetUserId(), page)
	if err != nil {
		return nil, err
	}
	return &recommendationsv1.ListForUserResponse{Videos: toProto(found.Videos),
		NextPageToken: nextToken(found, page, query)}, nil
}

func pageQuery(size int32, token, query string) (handlers.PageQuery, error) {
	offset, err := paging.Decode(token, query)
	return handlers.PageQuery{Offset: offset, Size: paging.Size(size)}, err
}

func nextToken(found handlers.Page, page handlers.PageQuery, query string) string {
	if !found.More {
		return ""
	}
	return paging.Encode(page.Offset+page.Size, query)
}

var reasons = map[domain.Reason]recommendationsv1.Reason{
	domain.CoLiked:         recommendationsv1.Reason_REASON_CO_LIKED,
	domain.FollowedChannel: recommendationsv1.Reason_REASON_FOLLOWED_CHANNEL,
}

func toProto(found []domain.Candidate) []*recommendationsv1.RecommendedVideo {
	out := make([]*recommendationsv1.RecommendedVideo, len(found))
	for i, c := range found {
		out[i] = &recommendationsv1.RecommendedVideo{
			VideoId: c.VideoID, OwnerId: c.OwnerID, Score: c.Score, Reason: reasons[c.Reason]}
	}
	return out
}

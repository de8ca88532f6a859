// Package server is the thin gRPC servicer of recommendations: request in, handler call,
// response out. Validation, errors, logs and deadlines are gomesh's interceptors.
package server

import (
	"context"

	recommendationsv1 "vidmesh/gen/go/vidmesh/recommendations/v1"
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
	found, err := handlers.ListRelatedVideos(ctx, s.queries, req.GetVideoId(), int(req.GetPageSize()))
	if err != nil {
		return nil, err
	}
	return &recommendationsv1.ListRelatedVideosResponse{Videos: toProto(found)}, nil
}

// ListForUser answers "for you".
func (s *Server) ListForUser(ctx context.Context, req *recommendationsv1.ListForUserRequest) (
	*recommendationsv1.ListForUserResponse, error) {
	found, err := handlers.ListForUser(ctx, s.queries, req.GetUserId(), int(req.GetPageSize()))
	if err != nil {
		return nil, err
	}
	return &recommendationsv1.ListForUserResponse{Videos: toProto(found)}, nil
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

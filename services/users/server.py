"""The gRPC face of the users service: requests to commands, results to responses.

Validation (protovalidate) and the mapping of domain errors to status codes happen in the
mesh interceptors, so each method only translates and delegates.
"""

from __future__ import annotations

from typing import Any

import grpc.aio
from vidmesh.users.v1 import users_service_pb2 as pb
from vidmesh.users.v1 import users_service_pb2_grpc

from mesh.server import Service
from services.users import handlers
from services.users.domain import Profile
from services.users.handlers import Deps

Context = grpc.aio.ServicerContext[Any, Any]


def to_user(profile: Profile) -> pb.User:
    """The public profile message."""
    user = pb.User(user_id=profile.user_id, display_name=profile.display_name, follower_count=profile.follower_count)
    user.create_time.FromDatetime(profile.created_at)
    return user


class UserServicer(users_service_pb2_grpc.UserServiceServicer):
    """vidmesh.users.v1.UserService."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def Register(self, request: pb.RegisterRequest, context: Context) -> pb.RegisterResponse:
        """Create an account."""
        command = handlers.Register(request.request_id, request.email, request.password, request.display_name)
        return pb.RegisterResponse(user_id=await handlers.register(command, self.deps))

    async def Login(self, request: pb.LoginRequest, context: Context) -> pb.LoginResponse:
        """Check the password, issue a token."""
        done = await handlers.login(handlers.Login(request.email, request.password), self.deps)
        return pb.LoginResponse(access_token=done.token.token, expires_in=done.token.expires_in,
                                token_type="Bearer", user_id=done.user_id)

    async def GetUser(self, request: pb.GetUserRequest, context: Context) -> pb.GetUserResponse:
        """One profile, and whether the viewer follows it."""
        profile, follows = await handlers.get_user(request.user_id, request.viewer_id, self.deps)
        return pb.GetUserResponse(user=to_user(profile), viewer_follows=follows)

    async def BatchGetUsers(self, request: pb.BatchGetUsersRequest, context: Context) -> pb.BatchGetUsersResponse:
        """Many profiles, in the order asked for."""
        profiles = await handlers.batch_get_users(list(request.user_ids), self.deps)
        return pb.BatchGetUsersResponse(users=[to_user(profile) for profile in profiles])

    async def Follow(self, request: pb.FollowRequest, context: Context) -> pb.FollowResponse:
        """Follow a channel."""
        command = handlers.Follow(request.request_id, request.follower_id, request.channel_id)
        return pb.FollowResponse(follower_count=await handlers.follow(command, self.deps))

    async def Unfollow(self, request: pb.UnfollowRequest, context: Context) -> pb.UnfollowResponse:
        """Stop following a channel."""
        command = handlers.Unfollow(request.request_id, request.follower_id, request.channel_id)
        return pb.UnfollowResponse(follower_count=await handlers.unfollow(command, self.deps))

    async def GetJwks(self, request: pb.GetJwksRequest, context: Context) -> pb.GetJwksResponse:
        """The public keys that verify access tokens."""
        return pb.GetJwksResponse(keys=[pb.JsonWebKey(**jwk) for jwk in self.deps.tokens.jwks()])


def user_service(deps: Deps) -> Service:
    """The service, ready for mesh.server."""
    descriptor = pb.DESCRIPTOR.services_by_name["UserService"]
    return Service(descriptor, UserServicer(deps), users_service_pb2_grpc.add_UserServiceServicer_to_server)

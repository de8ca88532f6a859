"""mobile-bff: small, cursor-paged answers for the phone app (feed, compact video, inbox,
like), served as vidmesh.mobilebff.v1.MobileBffService under /api/mobile/v1."""

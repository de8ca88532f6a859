"""web-bff: the web client's pages (home, video, channel, search, inbox) and write actions,
served as vidmesh.webbff.v1.WebBffService and exposed by the gateway under /api/web/v1."""

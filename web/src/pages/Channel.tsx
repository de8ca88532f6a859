import { useState } from "preact/hooks";
import { api, call, write } from "../api/client";
import type { ApiError } from "../api/errors";
import { asApiError, useLoad } from "../components/load";
import { ErrorNotice, Loading, Unavailable } from "../components/Notice";
import { VideoList } from "../components/VideoList";
import { count } from "../format";
import { currentSession } from "../session";

export function Channel({ userId }: { userId: string }) {
  const page = useLoad(() => call(api.GET("/api/web/v1/channels/{userId}", { params: { path: { userId } } })),
    [userId]);
  const [failed, setFailed] = useState<ApiError>();
  if (page.error) return <ErrorNotice error={page.error} what="This channel" retry={page.reload} />;
  if (!page.data) return <Loading />;
  const { channel, videos, viewerFollowing, degraded } = page.data;
  const session = currentSession();
  const canFollow = session !== null && session.userId !== userId;
  const toggle = async () => {
    const verb = viewerFollowing ? "/api/web/v1/channels/{userId}:unfollow" : "/api/web/v1/channels/{userId}:follow";
    try {
      await write((requestId) => api.POST(verb, { params: { path: { userId } }, body: { requestId } }));
      setFailed(undefined);
      page.reload();
    } catch (error) {
      setFailed(asApiError(error));
    }
  };
  return (
    <>
      <h1>{channel?.displayName ?? "Channel"}</h1>
      <p>{count(channel?.followerCount ?? 0, "follower", "followers")}</p>
      {canFollow && (
        <button type="button" onClick={toggle}>
          {viewerFollowing ? "Unfollow" : "Follow"}
        </button>
      )}
      {failed && <ErrorNotice error={failed} what="Following" />}
      <section aria-labelledby="channel-videos">
        <h2 id="channel-videos">Videos</h2>
        {degraded.includes("videos") ? <Unavailable what="This channel's videos are" />
          : <VideoList videos={videos} empty="No videos yet." />}
      </section>
    </>
  );
}

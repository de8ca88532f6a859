// A video's page, read through minVersion so the viewer's own writes show without a
// refresh: after publishing, liking or commenting it asks again for the version it wrote.
import { useEffect, useState } from "preact/hooks";
import { api, call, write } from "../../api/client";
import type { ApiError } from "../../api/errors";
import type { VideoPage as Page } from "../../api/schema";
import { Link } from "../../components/Link";
import { asApiError, useLoad } from "../../components/load";
import { ErrorNotice, Loading, Unavailable } from "../../components/Notice";
import { VideoList } from "../../components/VideoList";
import { count, date, duration } from "../../format";
import { navigate } from "../../router";
import { Comments } from "./Comments";

export function VideoPage({ videoId, minVersion }: { videoId: string; minVersion: string }) {
  const page = useLoad(() => call(api.GET("/api/web/v1/videos/{videoId}",
    { params: { path: { videoId }, query: { minVersion } } })), [videoId, minVersion]);
  const views = useViewCount(videoId, page.data);
  const [failed, setFailed] = useState<ApiError>();
  if (page.error) {
    return <ErrorNotice error={page.error} what="This video" retry={page.reload} awaited={minVersion !== "0"} />;
  }
  if (!page.data?.video?.card) return <Loading />;
  const { video, uploader, comments, commentsNextPageToken, related, viewer, stale, degraded, videoQueryVersion } = page.data;
  const card = video.card!;
  // Show the version this write produced: the page is read again through minVersion.
  const reread = (version: string) => navigate(`/videos/${videoId}?minVersion=${version}`, { replace: true });
  const act = async (write: () => Promise<{ version: string }>) => {
    try {
      reread((await write()).version);
      setFailed(undefined);
    } catch (error) {
      setFailed(asApiError(error));
    }
  };
  const on = (requestId: string) => ({ params: { path: { videoId } }, body: { requestId } });
  const publish = () => act(() => write((id) => api.POST("/api/web/v1/videos/{videoId}:publish", on(id))));
  const like = () => act(() => write((id) => viewer?.liked ? api.POST("/api/web/v1/videos/{videoId}:unlike", on(id))
    : api.POST("/api/web/v1/videos/{videoId}:like", on(id))));
  return (
    <article>
      <h1>{card.title}</h1>
      {stale && <p role="status">Your latest change is still on its way; this page shows the one before.</p>}
      <p>
        {uploader ? <Link href={`/channels/${uploader.userId}`}>{uploader.displayName}</Link> : card.ownerDisplayName}
        {" · "}{duration(card.durationSeconds)}{" · "}{date(card.publishTime ?? card.createTime)}
      </p>
      {degraded.includes("uploader") && <Unavailable what="The uploader's channel is" />}
      <p aria-live="polite">{count(Math.max(Number(views ?? 0), Number(card.viewCount)), "view", "views")} · {count(card.likeCount, "like", "likes")}</p>
      {!card.published && viewer?.owner && (
        <p class="draft">This is a draft: only you can see it. <button type="button" onClick={publish}>Publish</button></p>
      )}
      {card.published && viewer?.signedIn && (
        <button type="button" onClick={like}>{viewer.liked ? "Unlike" : "Like"}</button>
      )}
      {degraded.includes("viewer") && <Unavailable what="Whether you follow this channel is" />}
      {failed && <ErrorNotice error={failed} what="That action" />}
      {video.description && <p class="description">{video.description}</p>}
      {card.tags.length > 0 && <p>Tags: {card.tags.join(", ")}</p>}
      <Comments key={`${videoId}@${video.version}`} videoId={videoId} first={comments}
        nextPageToken={commentsNextPageToken} unavailable={degraded.includes("comments")} published={card.published}
        onAdded={reread} />
      <section aria-labelledby="related-heading">
        <h2 id="related-heading">More from this channel</h2>
        {degraded.includes("related") ? <Unavailable what="More videos of this channel are" />
          : <VideoList videos={related} empty="Nothing else yet." />}
      </section>
      {/* Which video-query version answered: a canary release shows here (make canary). */}
      {videoQueryVersion && <p class="served-by">Served by video-query v{videoQueryVersion}</p>}
    </article>
  );
}

/** Counts one view per visit of a published video (one request id per visit, so a
 * retried request counts once) and returns the new count. */
function useViewCount(videoId: string, page: Page | undefined): string | undefined {
  const [views, setViews] = useState<string>();
  const published = page?.video?.card?.published ?? false;
  useEffect(() => {
    setViews(undefined);
    if (!published) return;
    write((requestId) => api.POST("/api/web/v1/videos/{videoId}/views", { params: { path: { videoId } }, body: { requestId } }))
      .then((counted) => setViews(counted.viewCount), () => undefined);  // a view not counted is not worth an error
  }, [videoId, published]);
  return views;
}

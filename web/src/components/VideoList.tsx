import type { VideoCard } from "../api/schema";
import { count, duration } from "../format";
import { Link } from "./Link";

/** Video tiles; `empty` is said when there are none. */
export function VideoList({ videos, empty }: { videos: VideoCard[]; empty: string }) {
  if (videos.length === 0) return <p>{empty}</p>;
  return (
    <ul class="videos">
      {videos.map((video) => (
        <li key={video.videoId}>
          <article>
            <h3><Link href={`/videos/${video.videoId}`}>{video.title}</Link></h3>
            <p>
              by <Link href={`/channels/${video.ownerId}`}>{video.ownerDisplayName}</Link>
              {" · "}{duration(video.durationSeconds)}{" · "}{count(video.viewCount, "view", "views")}
              {!video.published && <strong class="draft"> · Draft</strong>}
            </p>
          </article>
        </li>
      ))}
    </ul>
  );
}

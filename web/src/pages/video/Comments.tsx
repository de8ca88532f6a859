// A video's comments: the page's first ones, "Show more comments" for the next pages
// (ListComments with the page token), and the form to add one.
import { useState } from "preact/hooks";
import { api, call, write } from "../../api/client";
import type { ApiError } from "../../api/errors";
import type { Comment } from "../../api/schema";
import { Link } from "../../components/Link";
import { asApiError } from "../../components/load";
import { ErrorNotice, Unavailable } from "../../components/Notice";
import { date } from "../../format";
import { signInPath } from "../../router";
import { currentSession } from "../../session";

interface Props {
  videoId: string;
  first: Comment[];
  nextPageToken: string;
  unavailable: boolean;
  published: boolean;
  onAdded: (version: string) => void;
}

export function Comments({ videoId, first, nextPageToken, unavailable, published, onAdded }: Props) {
  const [more, setMore] = useState<Comment[]>([]);
  const [token, setToken] = useState(nextPageToken);
  const [failed, setFailed] = useState<ApiError>();
  const showMore = async () => {
    try {
      const page = await call(api.GET("/api/web/v1/videos/{videoId}/comments",
        { params: { path: { videoId }, query: { pageToken: token } } }));
      setMore([...more, ...page.comments]);
      setToken(page.nextPageToken);
    } catch (error) {
      setFailed(asApiError(error));
    }
  };
  const shown = [...first, ...more];
  return (
    <section aria-labelledby="comments-heading">
      <h2 id="comments-heading">Comments</h2>
      {unavailable ? <Unavailable what="Comments are" /> : shown.length === 0 ? <p>No comments yet.</p> : (
        <ol class="comments">
          {shown.map((comment) => (
            <li key={comment.commentId}>
              <p><Link href={`/channels/${comment.authorId}`}>{comment.authorDisplayName}</Link>
                {" "}<time dateTime={comment.createTime}>{date(comment.createTime)}</time></p>
              <p>{comment.body}</p>
            </li>
          ))}
        </ol>
      )}
      {token && !unavailable && <button type="button" onClick={showMore}>Show more comments</button>}
      {failed && <ErrorNotice error={failed} what="More comments" retry={showMore} />}
      {published && <AddComment videoId={videoId} onAdded={onAdded} />}
    </section>
  );
}

function AddComment({ videoId, onAdded }: { videoId: string; onAdded: (version: string) => void }) {
  const [body, setBody] = useState("");
  const [failed, setFailed] = useState<ApiError>();
  if (!currentSession()) return <p><Link href={signInPath()}>Sign in</Link> to comment.</p>;
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      const added = await write((requestId) => api.POST("/api/web/v1/videos/{videoId}/comments",
        { params: { path: { videoId } }, body: { body, requestId } }));
      setBody("");
      setFailed(undefined);
      onAdded(added.version);
    } catch (error) {
      setFailed(asApiError(error));
    }
  };
  const invalid = failed?.fieldErrors().body;
  return (
    <form onSubmit={submit} noValidate>
      <label for="comment-body">Add a comment</label>
      <textarea id="comment-body" value={body} onInput={(e) => setBody(e.currentTarget.value)}
        aria-invalid={invalid ? true : undefined} aria-describedby={invalid ? "comment-error" : undefined} />
      {invalid && <p id="comment-error" class="field-error">{invalid}</p>}
      {failed && !invalid && <ErrorNotice error={failed} what="Commenting" />}
      <button type="submit">Post comment</button>
    </form>
  );
}

import { useState } from "preact/hooks";
import { api, call, write } from "../api/client";
import type { ApiError } from "../api/errors";
import { Link } from "../components/Link";
import { asApiError, useLoad } from "../components/load";
import { ErrorNotice, Loading } from "../components/Notice";
import { notificationsChanged } from "../components/UnreadBadge";
import { date } from "../format";

export function Notifications() {
  const inbox = useLoad(() => call(api.GET("/api/web/v1/notifications")), []);
  const [failed, setFailed] = useState<ApiError>();
  const markAll = async () => {
    try {
      await write((requestId) => api.POST("/api/web/v1/notifications:markRead", { body: { all: true, requestId } }));
      notificationsChanged();
      inbox.reload();
    } catch (error) {
      setFailed(asApiError(error));
    }
  };
  return (
    <>
      <h1>Notifications</h1>
      {inbox.error ? <ErrorNotice error={inbox.error} what="Notifications" retry={inbox.reload} />
        : !inbox.data ? <Loading /> : (
          <>
            <p>{Number(inbox.data.unreadCount) === 0 ? "All read." : `${inbox.data.unreadCount} unread.`}</p>
            {Number(inbox.data.unreadCount) > 0 && <button type="button" onClick={markAll}>Mark all as read</button>}
            {failed && <ErrorNotice error={failed} what="Marking notifications read" />}
            {inbox.data.notifications.length === 0 ? <p>Nothing yet.</p> : (
              <ul class="notifications">
                {inbox.data.notifications.map((n) => (
                  <li key={n.notificationId} class={n.read ? "read" : "unread"}>
                    {!n.read && <strong>New: </strong>}
                    {n.videoId ? <Link href={`/videos/${n.videoId}`}>{n.text}</Link> : n.text}
                    {" "}<time dateTime={n.createTime}>{date(n.createTime)}</time>
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
    </>
  );
}

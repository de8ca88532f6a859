// The notifications link in the header, with the unread count, kept current by asking
// again every few seconds and whenever the app changed something (markRead).
import { useEffect, useState } from "preact/hooks";
import { api, call } from "../api/client";
import { Link } from "./Link";

const POLL_MS = 4000;
const CHANGED = "vidmesh:notifications-changed";

export const notificationsChanged = () => window.dispatchEvent(new Event(CHANGED));

export function unreadLabel(unread: number | null): string {
  if (unread === null) return "Notifications (unavailable right now)";
  return unread === 0 ? "Notifications" : `Notifications, ${unread} unread`;
}

export function UnreadBadge() {
  const [unread, setUnread] = useState<number | null>(0);
  useEffect(() => {
    let live = true;
    const refresh = () => call(api.GET("/api/web/v1/notifications", { params: { query: { pageSize: 1 } } }))
      .then((page) => live && setUnread(Number(page.unreadCount)), () => live && setUnread(null));
    refresh();
    const timer = setInterval(refresh, POLL_MS);
    window.addEventListener(CHANGED, refresh);
    return () => { live = false; clearInterval(timer); window.removeEventListener(CHANGED, refresh); };
  }, []);
  return (
    <Link href="/notifications" aria-label={unreadLabel(unread)}>
      Notifications{unread ? <span class="badge" aria-hidden="true">{unread}</span> : null}
    </Link>
  );
}

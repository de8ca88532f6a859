// Every page: a header with the main navigation and search, the page in <main>, a footer.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { navigate } from "../router";
import { currentSession, signOut, type Session } from "../session";
import { Link } from "./Link";
import { UnreadBadge } from "./UnreadBadge";

function SearchForm() {
  const [q, setQ] = useState("");
  const submit = (event: Event) => {
    event.preventDefault();
    navigate(`/search?q=${encodeURIComponent(q)}`);
  };
  return (
    <form role="search" onSubmit={submit}>
      <label for="search-q">Search videos</label>
      <input id="search-q" type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
      <button type="submit">Search</button>
    </form>
  );
}

function Account({ session }: { session: Session | null }) {
  if (!session) {
    return <><Link href="/signin">Sign in</Link> <Link href="/signup">Sign up</Link></>;
  }
  const leave = () => { signOut(); navigate("/"); };
  return (
    <>
      <Link href="/new">Upload</Link>
      <UnreadBadge />
      <Link href={`/channels/${session.userId}`}>{session.displayName || "My channel"}</Link>
      <button type="button" onClick={leave}>Sign out</button>
    </>
  );
}

export function Layout({ children }: { children: ComponentChildren }) {
  const session = currentSession();
  return (
    <>
      <header>
        <nav aria-label="Main">
          <Link href="/" class="brand">vidmesh</Link>
          <Account session={session} />
        </nav>
        <SearchForm />
      </header>
      <main id="main">{children}</main>
      <footer>
        <a href="/docs">API reference</a> · served by the vidmesh gateway
      </footer>
    </>
  );
}

// The app: one layout, and the page the URL names.
import { useEffect, useState } from "preact/hooks";
import { Layout } from "./components/Layout";
import { Channel } from "./pages/Channel";
import { Home } from "./pages/Home";
import { NewVideo } from "./pages/NewVideo";
import { Notifications } from "./pages/Notifications";
import { Search } from "./pages/Search";
import { SignIn } from "./pages/SignIn";
import { VideoPage } from "./pages/video/VideoPage";
import { navigate, signInPath, useRoute, type Route } from "./router";
import { currentSession, onSessionChange } from "./session";

const NEEDS_SIGN_IN: Route["page"][] = ["new-video", "notifications"];

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "home": return <Home />;
    case "sign-in": case "sign-up": return <SignIn mode={route.page} next={route.next} />;
    case "search": return <Search q={route.q} />;
    case "channel": return <Channel userId={route.userId} />;
    case "video": return <VideoPage videoId={route.videoId} minVersion={route.minVersion} />;
    case "new-video": return <NewVideo />;
    case "notifications": return <Notifications />;
    case "not-found": return <><h1>Not found</h1><p>There is no page here.</p></>;
  }
}

export function App() {
  const route = useRoute();
  const [, setSessionVersion] = useState(0);
  useEffect(() => onSessionChange(() => setSessionVersion((n) => n + 1)), []);
  const blocked = NEEDS_SIGN_IN.includes(route.page) && !currentSession();
  useEffect(() => { if (blocked) navigate(signInPath(), { replace: true }); }, [blocked]);
  return <Layout>{blocked ? null : <Page route={route} />}</Layout>;
}

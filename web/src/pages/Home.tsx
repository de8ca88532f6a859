import { api, call } from "../api/client";
import { useLoad } from "../components/load";
import { ErrorNotice, Loading, Unavailable } from "../components/Notice";
import { VideoList } from "../components/VideoList";

export function Home() {
  const home = useLoad(() => call(api.GET("/api/web/v1/home")), []);
  if (home.error) return <ErrorNotice error={home.error} what="The home page" retry={home.reload} />;
  if (!home.data) return <Loading />;
  const { trending, following, forYou, signedIn, degraded } = home.data;
  return (
    <>
      <h1>Home</h1>
      {signedIn && (
        <section aria-labelledby="following-heading">
          <h2 id="following-heading">From channels you follow</h2>
          {degraded.includes("following")
            ? <Unavailable what="Videos from the channels you follow are" />
            : <VideoList videos={following} empty="Nothing new from the channels you follow." />}
        </section>
      )}
      {signedIn && (
        <section aria-labelledby="for-you-heading">
          <h2 id="for-you-heading">For you</h2>
          {degraded.includes("recommendations")
            ? <Unavailable what="Recommendations are" />
            : <VideoList videos={forYou} empty="Like a few videos and recommendations show up here." />}
        </section>
      )}
      <section aria-labelledby="trending-heading">
        <h2 id="trending-heading">Trending</h2>
        <VideoList videos={trending} empty="No videos yet." />
      </section>
    </>
  );
}

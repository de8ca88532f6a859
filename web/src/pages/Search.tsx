import { api, call } from "../api/client";
import { useLoad } from "../components/load";
import { ErrorNotice, Loading } from "../components/Notice";
import { VideoList } from "../components/VideoList";

export function Search({ q }: { q: string }) {
  const found = useLoad(() => call(api.GET("/api/web/v1/search", { params: { query: { q } } })), [q]);
  return (
    <>
      <h1>Search results for “{q}”</h1>
      {found.error ? <ErrorNotice error={found.error} what="Search" retry={found.reload} />
        : !found.data ? <Loading />
        : <VideoList videos={found.data.videos} empty="No published video matches." />}
    </>
  );
}

// Loading a page's data: the result, the error, and a way to load again.
import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError } from "../api/errors";

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  reload: () => void;
}

export function useLoad<T>(load: () => Promise<T>, keys: unknown[]): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError>();
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let current = true;
    setError(undefined);
    load().then(
      (loaded) => current && setData(loaded),
      (failed: unknown) => current && setError(asApiError(failed)),
    );
    return () => { current = false; };
  }, [...keys, attempt]);
  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return { data, error, reload };
}

export function asApiError(failed: unknown): ApiError {
  return failed instanceof ApiError ? failed : new ApiError(0, { message: String(failed) });
}

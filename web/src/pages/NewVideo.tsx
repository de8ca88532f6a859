// Create a draft. The form leaves validation to the server (the rules live in the protos):
// a 400's field violations are shown next to the fields they name.
import { useState } from "preact/hooks";
import { api, write } from "../api/client";
import type { ApiError } from "../api/errors";
import type { CreateVideo } from "../api/schema";
import { Field } from "../components/Field";
import { asApiError } from "../components/load";
import { ErrorNotice } from "../components/Notice";
import { tags as parseTags } from "../format";
import { navigate } from "../router";

export function NewVideo() {
  const [form, setForm] = useState({ title: "", description: "", duration: "", tags: "" });
  const [failed, setFailed] = useState<ApiError>();
  const set = (key: keyof typeof form) => (event: { currentTarget: { value: string } }) =>
    setForm({ ...form, [key]: event.currentTarget.value });
  const submit = async (event: Event) => {
    event.preventDefault();
    const body: Omit<CreateVideo, "requestId"> = {
      title: form.title, description: form.description, durationSeconds: Number(form.duration) || 0,
      tags: parseTags(form.tags),
    };
    try {
      const created = await write((requestId) => api.POST("/api/web/v1/videos", { body: { ...body, requestId } }));
      navigate(`/videos/${created.videoId}?minVersion=${created.version}`);
    } catch (error) {
      setFailed(asApiError(error));
    }
  };
  const errors = failed?.fieldErrors() ?? {};
  return (
    <>
      <h1>Upload a video</h1>
      {failed && (failed.kind === "invalid"
        ? <p role="alert">The video was not created: correct the fields marked below.</p>
        : <ErrorNotice error={failed} what="Creating videos" />)}
      <form onSubmit={submit} noValidate>
        <Field id="title" label="Title" error={errors.title}>
          {(aria) => <input {...aria} value={form.title} onInput={set("title")} />}
        </Field>
        <Field id="description" label="Description" error={errors.description}>
          {(aria) => <textarea {...aria} value={form.description} onInput={set("description")} />}
        </Field>
        <Field id="duration" label="Duration in seconds" error={errors.durationSeconds}>
          {(aria) => <input {...aria} type="number" inputMode="numeric" value={form.duration} onInput={set("duration")} />}
        </Field>
        <Field id="tags" label="Tags" hint="Separated by commas" error={errors.tags}>
          {(aria) => <input {...aria} value={form.tags} onInput={set("tags")} />}
        </Field>
        <button type="submit">Create draft</button>
      </form>
    </>
  );
}

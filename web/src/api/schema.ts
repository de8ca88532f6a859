// Names for the generated types (gen/openapi/api.d.ts, from the OpenAPI document that
// `make codegen` builds from the protos). Nothing here is written by hand but the names.
import type { components, paths } from "../../../gen/openapi/api";

export type { paths };
type Schemas = components["schemas"];
export type VideoCard = Schemas["vidmesh.webbff.v1.VideoCard"];
export type Comment = Schemas["vidmesh.webbff.v1.Comment"];
export type Notification = Schemas["vidmesh.webbff.v1.Notification"];
export type HomePage = Schemas["vidmesh.webbff.v1.GetHomeResponse"];
export type VideoPage = Schemas["vidmesh.webbff.v1.GetVideoPageResponse"];
export type ChannelPage = Schemas["vidmesh.webbff.v1.GetChannelResponse"];
export type CreateVideo = Schemas["vidmesh.webbff.v1.CreateVideoRequest"];
export type Status = Schemas["google.rpc.Status"];
export type BadRequest = Schemas["google.rpc.BadRequest"];

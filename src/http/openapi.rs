//! The API's OpenAPI 3.1 document, generated from the route table itself: every API route is
//! declared once, with its handler and what it takes and answers (`Doc`), through a [`Table`].
//! Serving runs the table into actix (`Routes`); the document runs the same table into
//! [`Described`] and builds the operations with utoipa from the types the handlers use (their
//! `ToSchema` derives), so a route cannot exist without being documented.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use actix_web::http::Method;
use actix_web::{FromRequest, Handler, HttpResponse, Responder, Route, web};
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, Content, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required,
    ResponseBuilder, ServerBuilder,
};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use crate::error::ErrorBody;

/// Component schemas, by name, with everything they refer to.
#[derive(Default)]
pub(crate) struct Schemas(BTreeMap<String, RefOr<Schema>>);

impl Schemas {
    /// Adds `T` and the schemas it names; answers a reference to it.
    pub(crate) fn add<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let name = T::name().into_owned();
        let mut found = vec![(name.clone(), T::schema())];
        T::schemas(&mut found);
        self.0.extend(found);
        RefOr::Ref(Ref::from_schema_name(name))
    }
}

/// A schema for a body or an answer, made when the document is built.
pub(crate) type SchemaFn = fn(&mut Schemas) -> RefOr<Schema>;

/// Who may call a route.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Anyone (sign-in, registration, health, the document).
    Public,
    /// A signed-in person of the route's area: a bearer token, or the session cookie with the
    /// `X-CSRF-Token` header on writes.
    Person,
    /// The platform's integration key (a bearer token) with a scope.
    Key,
    /// An email provider, checked by its own signature.
    Provider,
}

/// What a route takes in its body.
#[derive(Clone, Copy)]
pub(crate) enum Body {
    None,
    Json(SchemaFn),
    /// `multipart/form-data` with `content` and `files` (a message with attachments), or JSON.
    Message(SchemaFn),
    /// Whatever the provider posts (JSON or a form), checked against its signature.
    Provider,
}

/// What a route answers when it succeeds.
#[derive(Clone, Copy)]
pub(crate) enum Answer {
    Json(u16, SchemaFn),
    /// Either of two answers (an upsert: 201 created, 200 found; a registration: 201 signed in,
    /// 202 waiting for the address check).
    JsonEither(u16, SchemaFn, u16, SchemaFn),
    Empty(u16),
    /// Server-Sent Events.
    Stream,
    /// A file's bytes, always as a download.
    File,
    /// An HTML page.
    Page,
}

/// A route's description: what it does, who may call it, what it takes and answers.
#[derive(Clone, Copy)]
pub(crate) struct Doc {
    pub summary: &'static str,
    pub access: Access,
    pub query: Option<fn() -> Vec<Parameter>>,
    pub body: Body,
    pub answer: Answer,
}

/// A route for a signed-in person of the area.
pub(crate) const fn doc(summary: &'static str) -> Doc {
    Doc {
        summary,
        access: Access::Person,
        query: None,
        body: Body::None,
        answer: Answer::Empty(204),
    }
}

impl Doc {
    pub(crate) const fn public(mut self) -> Doc {
        self.access = Access::Public;
        self
    }

    pub(crate) const fn key(mut self) -> Doc {
        self.access = Access::Key;
        self
    }

    pub(crate) const fn provider(mut self) -> Doc {
        self.access = Access::Provider;
        self.body = Body::Provider;
        self
    }

    pub(crate) fn query<Q: IntoParams>(mut self) -> Doc {
        self.query = Some(|| Q::into_params(|| Some(ParameterIn::Query)));
        self
    }

    pub(crate) fn takes<T: ToSchema>(mut self) -> Doc {
        self.body = Body::Json(|s| s.add::<T>());
        self
    }

    pub(crate) fn takes_message<T: ToSchema>(mut self) -> Doc {
        self.body = Body::Message(|s| s.add::<T>());
        self
    }

    /// Answers `T` with 200.
    pub(crate) fn answers<T: ToSchema>(self) -> Doc {
        self.answers_with::<T>(200)
    }

    pub(crate) fn answers_with<T: ToSchema>(mut self, status: u16) -> Doc {
        self.answer = Answer::Json(status, |s| s.add::<T>());
        self
    }

    /// Answers 201 when it made `T`, 200 when it found it.
    pub(crate) fn upserts<T: ToSchema>(mut self) -> Doc {
        self.answer = Answer::JsonEither(201, |s| s.add::<T>(), 200, |s| s.add::<T>());
        self
    }

    /// Besides its answer, may answer `T` with `status`.
    pub(crate) fn or_answers_with<T: ToSchema>(mut self, status: u16) -> Doc {
        if let Answer::Json(first, schema) = self.answer {
            self.answer = Answer::JsonEither(first, schema, status, |s| s.add::<T>());
        }
        self
    }

    pub(crate) const fn empty(mut self, status: u16) -> Doc {
        self.answer = Answer::Empty(status);
        self
    }

    pub(crate) const fn stream(mut self) -> Doc {
        self.answer = Answer::Stream;
        self
    }

    pub(crate) const fn file(mut self) -> Doc {
        self.answer = Answer::File;
        self
    }

    pub(crate) const fn page(mut self) -> Doc {
        self.answer = Answer::Page;
        self
    }
}

/// Where the route table goes: into actix to serve, or into the document.
pub(crate) trait Table {
    /// Routes under `prefix` (a plain prefix: the router skips the whole scope at once).
    fn scope(&mut self, prefix: &'static str, build: impl FnOnce(&mut Self));
    /// A route whose actix [`Route`] is built elsewhere (the messaging routes, from their spec).
    fn route_built(&mut self, method: Method, path: &'static str, route: Route, doc: Doc);

    fn route<F, Args>(&mut self, method: Method, path: &'static str, handler: F, doc: Doc)
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let route = web::method(method.clone()).to(handler);
        self.route_built(method, path, route, doc);
    }

    fn get<F, Args>(&mut self, path: &'static str, handler: F, doc: Doc)
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::GET, path, handler, doc);
    }

    fn post<F, Args>(&mut self, path: &'static str, handler: F, doc: Doc)
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::POST, path, handler, doc);
    }

    fn put<F, Args>(&mut self, path: &'static str, handler: F, doc: Doc)
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::PUT, path, handler, doc);
    }

    fn patch<F, Args>(&mut self, path: &'static str, handler: F, doc: Doc)
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::PATCH, path, handler, doc);
    }

    fn delete<F, Args>(&mut self, path: &'static str, handler: F, doc: Doc)
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::DELETE, path, handler, doc);
    }
}

/// The table served: scopes and routes into actix's configuration.
pub(crate) struct Routes<'a> {
    cfg: &'a mut web::ServiceConfig,
    /// The scopes being built, innermost last.
    open: Vec<actix_web::Scope>,
    /// How many routes were registered (the document must have as many operations).
    pub count: usize,
}

impl<'a> Routes<'a> {
    pub(crate) fn new(cfg: &'a mut web::ServiceConfig) -> Routes<'a> {
        Routes {
            cfg,
            open: Vec::new(),
            count: 0,
        }
    }
}

impl Table for Routes<'_> {
    fn scope(&mut self, prefix: &'static str, build: impl FnOnce(&mut Self)) {
        self.open.push(web::scope(prefix));
        build(self);
        // The scope pushed above is the innermost one still open.
        let Some(done) = self.open.pop() else {
            return;
        };
        match self.open.pop() {
            Some(outer) => self.open.push(outer.service(done)),
            None => {
                self.cfg.service(done);
            }
        }
    }

    fn route_built(&mut self, _method: Method, path: &'static str, route: Route, _doc: Doc) {
        self.count += 1;
        match self.open.pop() {
            Some(scope) => self.open.push(scope.route(path, route)),
            None => {
                self.cfg.route(path, route);
            }
        }
    }
}

/// One documented route.
pub(crate) struct Described {
    prefix: Vec<&'static str>,
    pub routes: Vec<(Method, String, Doc)>,
}

impl Table for Described {
    fn scope(&mut self, prefix: &'static str, build: impl FnOnce(&mut Self)) {
        self.prefix.push(prefix);
        build(self);
        self.prefix.pop();
    }

    fn route_built(&mut self, method: Method, path: &'static str, _route: Route, doc: Doc) {
        let full = format!("{}{path}", self.prefix.concat());
        self.routes.push((method, full, doc));
    }
}

/// The documented routes of the API table.
pub(crate) fn described() -> Vec<(Method, String, Doc)> {
    let mut table = Described {
        prefix: Vec::new(),
        routes: Vec::new(),
    };
    super::api(&mut table);
    table.routes
}

/// The document, built once.
pub(crate) fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        build(&described())
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    })
}

fn http_method(method: &Method) -> HttpMethod {
    match *method {
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::PATCH => HttpMethod::Patch,
        Method::DELETE => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

/// Path parameters: ids are integers, external ids, codes, keys and tokens strings.
fn path_parameters(path: &str) -> Vec<Parameter> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let numeric = (name == "id" || name.ends_with("_id")) && !name.contains("external");
            let schema = if numeric {
                i64::schema()
            } else {
                String::schema()
            };
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(schema))
                .build()
        })
        .collect()
}

fn operation(method: &Method, path: &str, doc: &Doc, schemas: &mut Schemas) -> Operation {
    let id = format!(
        "{}{}",
        method.as_str().to_ascii_lowercase(),
        path.replace(['{', '}'], "").replace(['/', '-', '.'], "_")
    );
    let tag = path
        .trim_start_matches("/api/v1/")
        .split('/')
        .next()
        .unwrap_or("api")
        .to_string();
    let mut op = OperationBuilder::new()
        .summary(Some(doc.summary))
        .operation_id(Some(id))
        .tag(tag);
    let mut parameters = path_parameters(path);
    if let Some(query) = doc.query {
        parameters.extend(query());
    }
    if !parameters.is_empty() {
        op = op.parameters(Some(parameters));
    }
    match doc.body {
        Body::None => {}
        Body::Json(schema) => {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", Content::new(Some(schema(schemas))))
                    .required(Some(Required::True))
                    .build(),
            ));
        }
        Body::Message(schema) => {
            let multipart = ObjectBuilder::new()
                .property("content", String::schema())
                .property(
                    "files",
                    ArrayBuilder::new().items(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .content_media_type("application/octet-stream"),
                    ),
                );
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", Content::new(Some(schema(schemas))))
                    .content("multipart/form-data", Content::new(Some(multipart)))
                    .required(Some(Required::True))
                    .build(),
            ));
        }
        Body::Provider => {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", Content::new(Some(ObjectBuilder::new())))
                    .required(Some(Required::True))
                    .build(),
            ));
        }
    }
    let json = |status: &str, schema: RefOr<Schema>| {
        ResponseBuilder::new()
            .description(status_text(status))
            .content("application/json", Content::new(Some(schema)))
            .build()
    };
    op = match doc.answer {
        Answer::Json(status, schema) => {
            let schema = schema(schemas);
            op.response(status.to_string(), json(&status.to_string(), schema))
        }
        Answer::JsonEither(first, one, second, other) => {
            let (one, other) = (one(schemas), other(schemas));
            op.response(first.to_string(), json(&first.to_string(), one))
                .response(second.to_string(), json(&second.to_string(), other))
        }
        Answer::Empty(status) => op.response(
            status.to_string(),
            ResponseBuilder::new().description(status_text(&status.to_string())),
        ),
        Answer::Stream => op.response(
            "200",
            ResponseBuilder::new()
                .description("Server-Sent Events, each with its event-log sequence number as `id`")
                .content(
                    "text/event-stream",
                    Content::new(Some(ObjectBuilder::new().schema_type(Type::String))),
                ),
        ),
        Answer::File => op.response(
            "200",
            ResponseBuilder::new()
                .description(
                    "The file in its sniffed type, as a download (Content-Disposition: attachment)",
                )
                .content(
                    "*/*",
                    Content::new(Some(ObjectBuilder::new().schema_type(Type::String))),
                ),
        ),
        Answer::Page => op.response(
            "200",
            ResponseBuilder::new().description("An HTML page").content(
                "text/html",
                Content::new(Some(ObjectBuilder::new().schema_type(Type::String))),
            ),
        ),
    };
    // Every error has the one shape; its status says which (400 bad input, 401 no or a bad
    // credential, 403 not allowed, 404 missing or another tenant's, 409 a conflict, 410 gone,
    // 413 too large, 415 a refused file type, 429 too many, 503 busy, 507 no disk space).
    let error = schemas.add::<ErrorBody>();
    op = op.response(
        "default",
        ResponseBuilder::new()
            .description("An error, as {\"error\": {\"code\", \"message\"}}")
            .content("application/json", Content::new(Some(error))),
    );
    op = match doc.access {
        Access::Public | Access::Provider => op.security(SecurityRequirement::default()),
        Access::Person => op
            .security(SecurityRequirement::new("session", Vec::<String>::new()))
            .security(SecurityRequirement::new("cookie", Vec::<String>::new())),
        Access::Key => op.security(SecurityRequirement::new("key", Vec::<String>::new())),
    };
    op.build()
}

fn status_text(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "202" => "Accepted",
        "204" => "No content",
        _ => "Success",
    }
}

/// The OpenAPI document of `routes`.
pub(crate) fn build(routes: &[(Method, String, Doc)]) -> OpenApi {
    let mut schemas = Schemas::default();
    let mut paths = Paths::new();
    for (method, path, doc) in routes {
        let op = operation(method, path, doc, &mut schemas);
        paths.add_path_operation(path, vec![http_method(method)], op);
    }
    let bearer = |description: &str| {
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(description))
                .build(),
        )
    };
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Parley API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "The messaging appliance's API: the admin, vendor and shop areas, the \
                     platform's integration, and the email providers' webhooks. Errors answer \
                     `{\"error\": {\"code\", \"message\"}}` with the status that fits.",
                ))
                .build(),
        )
        .servers(Some([ServerBuilder::new().url("/").build()]))
        .paths(paths)
        .components(Some(
            ComponentsBuilder::new()
                .schemas_from_iter(schemas.0)
                .security_scheme(
                    "session",
                    bearer("The access_token of a login in the route's area"),
                )
                .security_scheme(
                    "cookie",
                    SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Cookie(
                        utoipa::openapi::security::ApiKeyValue::with_description(
                            "parley_session",
                            "The session cookie of a login with cookie: true (writes also send X-CSRF-Token)",
                        ),
                    )),
                )
                .security_scheme("key", bearer("An integration key (pk_…) with the route's scope"))
                .build(),
        ))
        .build()
}

/// `GET /api/openapi.json`.
pub(crate) async fn serve_document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "no-cache"))
        .body(document())
}

/// Any JSON object (this document's own schema is OpenAPI's).
pub(crate) struct AnyJson;

impl PartialSchema for AnyJson {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::Object).into()
    }
}

impl ToSchema for AnyJson {}

/// `GET /api/docs`: the reference page, drawn by a script from the document (no other host).
pub(crate) async fn serve_reference() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", super::pages::CSP))
        .body(include_str!("../../assets/api-docs.html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` in `value`.
    fn refs(value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    match (key.as_str(), inner) {
                        ("$ref", serde_json::Value::String(r)) => found.push(r.clone()),
                        _ => refs(inner, found),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| refs(i, found)),
            _ => {}
        }
    }

    #[test]
    fn every_route_served_is_in_the_document_with_what_it_answers() {
        // The table served counts its routes; the document must hold as many operations.
        let mut served = 0;
        let _ = actix_web::App::new().configure(|cfg| {
            let mut routes = Routes::new(cfg);
            crate::http::api(&mut routes);
            served = routes.count;
        });
        let described = described();
        assert_eq!(served, described.len());
        assert!(served > 120, "{served} routes");
        let document: serde_json::Value = serde_json::from_str(document()).unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        let mut operations = 0;
        for (method, path, _) in &described {
            let operation = &document["paths"][path][method.as_str().to_ascii_lowercase()];
            assert!(operation.is_object(), "{method} {path} is not documented");
            assert!(
                operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{method} {path} has no summary"
            );
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.contains_key("default"), "{method} {path} errors");
            assert!(
                responses.keys().any(|status| status.starts_with('2')),
                "{method} {path} has no success answer"
            );
            operations += 1;
        }
        let documented: usize = document["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| item.as_object().unwrap().len())
            .sum();
        assert_eq!(
            documented, operations,
            "nothing documented that is not served"
        );
        // Every reference resolves.
        let mut found = Vec::new();
        refs(&document, &mut found);
        assert!(!found.is_empty());
        for reference in found {
            let name = reference.trim_start_matches("#/components/schemas/");
            assert!(
                document["components"]["schemas"][name].is_object(),
                "{reference} is not in the components"
            );
        }
    }

    #[test]
    fn ids_are_integers_and_external_ids_strings() {
        let params = path_parameters("/x/{store_external_id}/y/{id}/z/{code}/{message_id}");
        let json = serde_json::to_value(&params).unwrap();
        let types: Vec<&str> = json
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["schema"]["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["string", "integer", "string", "integer"]);
    }
}

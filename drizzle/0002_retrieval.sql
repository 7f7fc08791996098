CREATE TABLE "chunks" (
	"id" serial PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"relative_path" text NOT NULL,
	"language" text NOT NULL,
	"symbol" text,
	"kind" text NOT NULL,
	"start_line" integer NOT NULL,
	"end_line" integer NOT NULL,
	"content" text NOT NULL,
	"content_hash" text NOT NULL,
	"search_text" text NOT NULL,
	"search_vector" "tsvector" GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED,
	"embedding" vector(384) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "project_files" (
	"project_id" text NOT NULL,
	"relative_path" text NOT NULL,
	"size" bigint NOT NULL,
	"mtime_ms" double precision NOT NULL,
	"content_hash" text NOT NULL,
	"language" text NOT NULL,
	"chunk_count" integer NOT NULL,
	"indexed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "project_files_project_id_relative_path_pk" PRIMARY KEY("project_id","relative_path")
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" text PRIMARY KEY NOT NULL,
	"root" text NOT NULL,
	"embedder_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_indexed_at" timestamp with time zone,
	CONSTRAINT "projects_root_unique" UNIQUE("root")
);
--> statement-breakpoint
ALTER TABLE "interactions" ADD COLUMN "retrieval" jsonb;--> statement-breakpoint
ALTER TABLE "chunks" ADD CONSTRAINT "chunks_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_files" ADD CONSTRAINT "project_files_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chunks_project_id_relative_path_index" ON "chunks" USING btree ("project_id","relative_path");--> statement-breakpoint
CREATE INDEX "chunks_project_id_symbol_index" ON "chunks" USING btree ("project_id","symbol");--> statement-breakpoint
CREATE INDEX "chunks_embedding_hnsw" ON "chunks" USING hnsw ("embedding" vector_cosine_ops);--> statement-breakpoint
CREATE INDEX "chunks_search_vector_gin" ON "chunks" USING gin ("search_vector");
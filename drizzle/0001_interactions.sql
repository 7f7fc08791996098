CREATE TABLE "interactions" (
	"id" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"source" text NOT NULL,
	"question" text NOT NULL,
	"normalized_question" text NOT NULL,
	"history" jsonb NOT NULL,
	"project" text,
	"cache_key" text NOT NULL,
	"answer" text,
	"status" text NOT NULL,
	"error" jsonb,
	"cached" boolean DEFAULT false NOT NULL,
	"cached_from" text,
	"model" text NOT NULL,
	"model_fingerprint" text NOT NULL,
	"adapters" jsonb NOT NULL,
	"timings" jsonb
);
--> statement-breakpoint
CREATE TABLE "response_cache" (
	"cache_key" text PRIMARY KEY NOT NULL,
	"interaction_id" text NOT NULL,
	"answer" text NOT NULL,
	"tokens" integer NOT NULL,
	"model_fingerprint" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"hits" integer DEFAULT 0 NOT NULL,
	"last_hit_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "response_cache" ADD CONSTRAINT "response_cache_interaction_id_interactions_id_fk" FOREIGN KEY ("interaction_id") REFERENCES "public"."interactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "interactions_created_at_index" ON "interactions" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "interactions_project_created_at_index" ON "interactions" USING btree ("project","created_at");
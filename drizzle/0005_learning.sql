CREATE TABLE "adapters" (
	"name" text NOT NULL,
	"version" integer NOT NULL,
	"channel" text NOT NULL,
	"scope" text NOT NULL,
	"project" text,
	"base_model" text NOT NULL,
	"base_model_fingerprint" text NOT NULL,
	"parent_version" integer,
	"training_run_id" text,
	"path" text NOT NULL,
	"sha256" text NOT NULL,
	"bytes" bigint NOT NULL,
	"rank" integer NOT NULL,
	"alpha" double precision NOT NULL,
	"targets" jsonb NOT NULL,
	"importance_path" text,
	"metrics" jsonb NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"promoted_at" timestamp with time zone,
	CONSTRAINT "adapters_name_version_pk" PRIMARY KEY("name","version")
);
--> statement-breakpoint
CREATE TABLE "replay_examples" (
	"id" serial PRIMARY KEY NOT NULL,
	"adapter_name" text NOT NULL,
	"project" text NOT NULL,
	"kind" text NOT NULL,
	"text" text NOT NULL,
	"tokens" integer NOT NULL,
	"content_hash" text NOT NULL,
	"key" double precision NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "replay_examples_adapterName_contentHash_unique" UNIQUE("adapter_name","content_hash")
);
--> statement-breakpoint
CREATE TABLE "training_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"adapter_name" text NOT NULL,
	"project" text NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"settings" jsonb NOT NULL,
	"loss_curve" jsonb NOT NULL,
	"nll_before" jsonb,
	"nll_after" jsonb,
	"importance_stats" jsonb,
	"version" integer,
	"promoted" boolean,
	"reason" text,
	"error" jsonb
);
--> statement-breakpoint
CREATE INDEX "adapters_name_channel_index" ON "adapters" USING btree ("name","channel");--> statement-breakpoint
CREATE INDEX "replay_examples_adapter_name_key_index" ON "replay_examples" USING btree ("adapter_name","key");--> statement-breakpoint
CREATE INDEX "training_runs_adapter_name_started_at_index" ON "training_runs" USING btree ("adapter_name","started_at");--> statement-breakpoint
CREATE INDEX "training_runs_project_started_at_index" ON "training_runs" USING btree ("project","started_at");
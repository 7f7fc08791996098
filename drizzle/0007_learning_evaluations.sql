CREATE TABLE "learning_evaluations" (
	"adapter_name" text NOT NULL,
	"version" integer NOT NULL,
	"project" text NOT NULL,
	"nll" double precision NOT NULL,
	"tokens" integer NOT NULL,
	"held_out_hash" text NOT NULL,
	"run_id" text,
	"measured_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "learning_evaluations_adapter_name_version_project_pk" PRIMARY KEY("adapter_name","version","project")
);
--> statement-breakpoint
ALTER TABLE "training_runs" ADD COLUMN "stats" jsonb;
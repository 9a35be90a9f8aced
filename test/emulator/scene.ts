import { invalidParameter } from './envelope';

/** What the emulator "sees" in a video: its length, frame size and the faces' lip-sync windows. */
export interface Scene {
	durationMs: number;
	width: number;
	height: number;
	sizeMb: number;
	faces: Array<{ startMs: number; endMs: number }>;
	/** Tasks made from this video end in `failed` with this message. */
	failMessage?: string;
}

/**
 * The documented URL convention that lets a test describe any scene:
 * `.../clip.mp4?durationMs=8000&faces=0-5200,3000-8000&width=1280&height=720&sizeMb=5&fail=reason`.
 * `faces=` (empty) is a video in which no face is found. Defaults: 8 s, one face over all of it.
 */
export function sceneFromQuery(query: URLSearchParams): Scene {
	const num = (name: string, fallback: number): number => {
		const raw = query.get(name);
		if (raw === null) return fallback;
		const value = Number(raw);
		if (!Number.isFinite(value)) throw invalidParameter(`video_url: ${name} must be a number`);
		return value;
	};
	const durationMs = num('durationMs', 8000);
	const facesRaw = query.get('faces');
	const faces =
		facesRaw === null
			? [{ startMs: 0, endMs: durationMs }]
			: facesRaw
					.split(',')
					.filter((s) => s.trim() !== '')
					.map((window) => {
						const [startMs, endMs] = window.split('-').map(Number);
						return { startMs, endMs };
					});
	return {
		durationMs,
		width: num('width', 1280),
		height: num('height', 720),
		sizeMb: num('sizeMb', 5),
		faces,
		failMessage: query.get('fail') ?? undefined,
	};
}

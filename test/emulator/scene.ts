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
	/**
	 * Which video of a chain this is: 1 for the original, 2 for the result of a lip-sync of it, and
	 * so on (identify-face on a result's video id sees the same scene, one step on).
	 */
	step: number;
	/** With `failMessage`: only tasks made on this step's video fail (a dialogue failing at its 2nd speaker). */
	failAtStep?: number;
	/** Faces (by index) no longer found in result videos (a face re-encoding made unrecognisable). */
	lostFaces: number[];
	/** With `failMessage`: only the first this many tasks made on the failing video fail (a passing fault). */
	failTimes?: number;
	/** The video's own description (its query), which every step of its chain keeps: counts faults. */
	origin?: string;
}

/** What identify-face sees in the video a lip-sync of `scene` made. */
export const resultScene = (scene: Scene): Scene => ({
	...scene,
	step: scene.step + 1,
	faces: scene.faces.filter((_face, index) => !scene.lostFaces.includes(index)),
	lostFaces: [],
});

/** Whether tasks made on this video fail, and why. */
export const failureOf = (scene: Scene): string | undefined =>
	scene.failAtStep === undefined || scene.failAtStep === scene.step ? scene.failMessage : undefined;

/**
 * The documented URL convention that lets a test describe any scene:
 * `.../clip.mp4?durationMs=8000&faces=0-5200,3000-8000&width=1280&height=720&sizeMb=5&fail=reason`,
 * plus `failAtStep=2` (only the 2nd lip-sync of a chain fails), `failTimes=1` (only the first task
 * on it fails: a fault that passes) and `lostFaces=1` (face 1 is not found again in a result video).
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
		step: 1,
		failAtStep: query.get('failAtStep') === null ? undefined : num('failAtStep', 1),
		lostFaces: (query.get('lostFaces') ?? '')
			.split(',')
			.filter((s) => s.trim() !== '')
			.map(Number),
		failTimes: query.get('failTimes') === null ? undefined : num('failTimes', 1),
		origin: query.toString(),
	};
}

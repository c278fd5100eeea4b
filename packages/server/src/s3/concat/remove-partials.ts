// The last step of every final upload: once its object is complete, the partials it was
// made of go (objects and infos), then its info records that they went.
import { ERRORS } from '../../errors.js';
import type { UploadInfo } from '../info.js';
import { writeInfo } from '../info-io.js';
import { PartPipeline } from '../parts/pipeline.js';
import type { FinalDeps } from './deps.js';

/** After the final is complete: its partials' objects and infos go, then the flag is set. */
export async function removePartials(deps: FinalDeps, info: UploadInfo): Promise<UploadInfo> {
  if (info.concat?.role !== 'final' || info.concat.partialsRemoved) return info;
  const removing = new PartPipeline(4);
  for (const p of info.concat.partials) {
    await removing.add(() =>
      deps.remove(p.id).catch((err: unknown) => {
        if (err !== ERRORS.FILE_NOT_FOUND) throw err;
      }),
    );
  }
  await removing.drain();
  const done: UploadInfo = { ...info, concat: { ...info.concat, partialsRemoved: true } };
  await writeInfo(deps.ctx, done);
  return done;
}
